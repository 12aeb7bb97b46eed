from common.main import run_service
from services.escalation.server import assemble

run_service("escalation", assemble, downstream=("disputes",))
