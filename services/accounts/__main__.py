"""`python -m services.accounts [serve | migrate | import FILE --currency CODE]`."""

from common.main import run_service
from services.accounts.cli import import_command
from services.accounts.server import DOWNSTREAM, assemble

run_service("accounts", assemble, downstream=DOWNSTREAM, extra_commands={"import": import_command})
