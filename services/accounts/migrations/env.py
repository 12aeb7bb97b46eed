from common.db.alembic_env import run
from services.accounts.data import collections_models, dunning_models, report_models  # noqa: F401
from services.accounts.data.models import Base

run(Base.metadata)
