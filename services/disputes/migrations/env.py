from common.db.alembic_env import run
from services.disputes.models import Base

run(Base.metadata)
