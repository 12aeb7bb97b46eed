from common.db.alembic_env import run
from services.accounts.data.models import Base

run(Base.metadata)
