"""Records of scheduled job runs: each (job, period) is claimed once, whoever runs it."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class JobRun(Model):
    id = fields.BigIntField(primary_key=True)
    job = fields.CharField(max_length=60)
    period = fields.CharField(max_length=40)
    started_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)
    result = fields.CharField(max_length=500, default="")
    error = fields.TextField(default="")

    class Meta:
        table = "job_run"
        unique_together = (("job", "period"),)
        ordering = ["-started_at"]
