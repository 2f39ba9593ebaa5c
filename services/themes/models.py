"""Themes: the theme of the month, the announced next theme, and the policy themes voted on."""

from __future__ import annotations

from tortoise import fields

from services.content import ContentModel


class Theme(ContentModel):
    title = fields.CharField(max_length=200)
    introduction = fields.TextField(default="")
    # First day of the month it is (or was) the theme of the month; one theme per month.
    month = fields.DateField(null=True, unique=True)
    announced_in = fields.DateField(null=True)
    is_next = fields.BooleanField(default=False)
    is_vote_candidate = fields.BooleanField(default=False)

    class Meta:
        table = "theme"
