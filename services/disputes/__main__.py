from common.main import run_service
from services.disputes.server import DOWNSTREAM, assemble

run_service("disputes", assemble, downstream=DOWNSTREAM)
