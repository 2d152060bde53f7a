"""Imports every domain's tables, so the metadata (and Alembic) sees the whole schema."""

from accounts import models as accounts_models
from audience_day import models as audience_day_models
from cases import models as cases_models
from emergency import models as emergency_models
from fairness import models as fairness_models
from followup import models as followup_models
from majlis import pubsub_models
from majlis.db import Base
from notify import models as notify_models
from priority import models as priority_models
from quality import models as quality_models
from rooms import models as rooms_models
from scheduler import models as scheduler_models
from video import models as video_models
from whatsapp_desk import models as whatsapp_desk_models
from worktime import models as worktime_models

__all__ = [
    "Base",
    "accounts_models",
    "audience_day_models",
    "cases_models",
    "emergency_models",
    "fairness_models",
    "followup_models",
    "notify_models",
    "priority_models",
    "pubsub_models",
    "quality_models",
    "rooms_models",
    "scheduler_models",
    "video_models",
    "whatsapp_desk_models",
    "worktime_models",
]
