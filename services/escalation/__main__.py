from common.main import run_service
from services.escalation.server import build

run_service("escalation", build, downstream=("disputes",))
