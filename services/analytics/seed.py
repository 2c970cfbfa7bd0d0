"""Built-in data of the analytics service: the default Reference Analytics dataset,
ensured at every start (idempotent; an admin's later edits are kept)."""

from __future__ import annotations

from refdesk.contracts.analytics import DEFAULT_DATASET_ID, Dataset, DatasetField

from .store import AnalyticsStore


def _fields(*fields: DatasetField) -> list[DatasetField]:
    return [field.model_copy(update={"position": position}) for position, field in enumerate(fields)]


DEFAULT_DATASET = Dataset(
    id=DEFAULT_DATASET_ID,
    name="Reference Analytics",
    fields=_fields(
        DatasetField(key="location", label="Location", kind="choice", required=True,
                     options=["Main Library", "Science Library", "Online"]),
        DatasetField(key="mode", label="Mode", kind="choice", required=True,
                     options=["Chat", "In person", "Phone", "Email"]),
        DatasetField(key="duration", label="Duration", kind="number", required=True, unit="minutes"),
        DatasetField(key="referred_by", label="Referred by", kind="choice",
                     options=["Library website", "Instructor", "Catalog", "Another library", "Other"]),
        DatasetField(key="question", label="Question", kind="text"),
        DatasetField(key="answer", label="Answer", kind="text"),
    ),
)


async def seed(store: AnalyticsStore) -> None:
    """Insert the default dataset and its fields where missing."""
    await store.ensure_dataset(DEFAULT_DATASET)
