from common.db.alembic_env import run
from services.disputes.data.models import Base

run(Base.metadata)
