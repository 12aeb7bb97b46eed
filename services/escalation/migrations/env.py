from common.db.alembic_env import run
from services.escalation.data.models import Base

run(Base.metadata)
