from common.db.database import Database, is_postgres
from common.db.types import UtcDateTime

__all__ = ["Database", "UtcDateTime", "is_postgres"]
