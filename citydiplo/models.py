"""What the catalogue's shared machinery stores: editors' changes waiting for review
(citydiplo/review.py)."""

from django.db import models
from django.utils import timezone

from .records import choice_constraint


class PendingChangeStatus(models.TextChoices):
    PENDING = "pending", "Waiting for review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    SUPERSEDED = "superseded", "Replaced by a later proposal"


class PendingChange(models.Model):
    """An editor's change to a published record, kept apart until a chief editor
    approves it (citydiplo/review.py). The record itself stays as the public sees it.

    `before` and `after` are the record's states (fields, links, inline rows) as
    `review.record_state` writes them; approving applies `after` if the record is still
    in the state `before`.
    """

    content_type = models.ForeignKey("contenttypes.ContentType", models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    record_label = models.CharField("record", max_length=300)
    author = models.ForeignKey(
        "auth.User", models.SET_NULL, null=True, related_name="proposed_changes"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    reason = models.CharField("editor's reason", max_length=100, blank=True)
    before = models.JSONField()
    after = models.JSONField()
    status = models.CharField(
        max_length=10,
        choices=PendingChangeStatus.choices,
        default=PendingChangeStatus.PENDING,
        db_index=True,
    )
    reviewer = models.ForeignKey(
        "auth.User", models.SET_NULL, null=True, blank=True, related_name="reviewed_changes"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_reason = models.CharField("reviewer's reason", max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "change for review"
        verbose_name_plural = "changes for review"
        permissions = [("review_pendingchange", "Can approve or reject changes for review")]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="pendingchange_record_idx")
        ]
        constraints = [
            choice_constraint("pendingchange", "status", PendingChangeStatus),
        ]

    def __str__(self):
        return f"Change to {self.record_label} ({self.get_status_display().lower()})"

    @property
    def record(self):
        model = self.content_type.model_class()
        return model._default_manager.filter(pk=self.object_id).first()
