"""Built-in data of the analytics service: the default Reference Analytics dataset,
ensured at every start (idempotent; an admin's later edits are kept, fields added here
later are added to an existing dataset)."""

from __future__ import annotations

from refdesk.contracts.analytics import DEFAULT_DATASET_ID, Dataset, DatasetField

from .ra_store import RaStore


def _fields(*fields: DatasetField) -> list[DatasetField]:
    return [field.model_copy(update={"position": position}) for position, field in enumerate(fields)]


DEFAULT_DATASET = Dataset(
    id=DEFAULT_DATASET_ID,
    name="Reference Analytics",
    description="Every reference question: by chat, at the desk, by phone or email.",
    fields=_fields(
        DatasetField(key="location", label="Location", kind="single_choice", required=True,
                     options=["Chat", "Reference desk", "Circulation desk", "Phone", "Email", "Roving", "Office"]),
        DatasetField(key="mode", label="Mode", kind="single_choice", required=True,
                     options=["Chat", "In person", "Phone", "Email", "Text/SMS"]),
        DatasetField(key="duration", label="Duration", kind="number", required=True, unit="minutes",
                     min_value=0, max_value=1440),
        DatasetField(key="referred_by", label="Referred by", kind="single_choice",
                     options=["Library website", "Instructor", "Catalog", "Another library", "Colleague", "Other"]),
        DatasetField(key="question_type", label="Question type", kind="single_choice",
                     options=["Directional", "Ready reference", "Research", "Technology", "Policy/Circulation",
                              "Other"]),
        DatasetField(key="read_scale", label="READ scale", kind="read_scale"),
        DatasetField(key="question", label="Question", kind="text"),
        DatasetField(key="answer", label="Answer", kind="text"),
        DatasetField(key="internal_note", label="Internal note", kind="text"),
    ),
)


async def seed(store: RaStore) -> None:
    """Insert the default dataset and those of its fields that are missing."""
    await store.ensure_dataset(DEFAULT_DATASET)
