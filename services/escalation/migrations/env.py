from common.db.alembic_env import run
from services.escalation.models import Base

run(Base.metadata)
