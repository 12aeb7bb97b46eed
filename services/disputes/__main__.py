from common.main import run_service
from services.disputes.server import DOWNSTREAM, build

run_service("disputes", build, downstream=DOWNSTREAM)
