"""Voting rounds: local authorities vote for the themes of the next shared projects."""

from __future__ import annotations

from tortoise import fields

from services.content import ContentModel, TimestampedModel


class VotingRound(ContentModel):
    title = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    opens_at = fields.DatetimeField()
    closes_at = fields.DatetimeField()
    votes_per_territory = fields.IntField(default=3)
    closed_at = fields.DatetimeField(null=True)
    winner = fields.ForeignKeyField(
        "models.Theme", related_name="won_rounds", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "voting_round"


class Candidate(TimestampedModel):
    """A theme local authorities can vote for in one round."""

    round = fields.ForeignKeyField(
        "models.VotingRound", related_name="candidates", on_delete=fields.CASCADE
    )
    theme = fields.ForeignKeyField(
        "models.Theme", related_name="candidacies", on_delete=fields.CASCADE
    )

    class Meta:
        table = "voting_candidate"
        unique_together = (("round", "theme"),)


class Vote(TimestampedModel):
    """One vote of one local authority for one candidate theme (at most one per theme)."""

    round = fields.ForeignKeyField(
        "models.VotingRound", related_name="votes", on_delete=fields.CASCADE
    )
    territory = fields.ForeignKeyField(
        "models.Territory", related_name="votes", on_delete=fields.CASCADE
    )
    theme = fields.ForeignKeyField("models.Theme", related_name="votes", on_delete=fields.CASCADE)
    # The member who cast it, for the authority's own record (never shown publicly).
    cast_by = fields.ForeignKeyField(
        "models.Account", related_name="votes", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "vote"
        unique_together = (("round", "territory", "theme"),)
