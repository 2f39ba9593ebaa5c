"""The live ranking over a real WebSocket (graphql-transport-ws) against a real server."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from websockets.sync.client import connect

from tests.live import live_server

pytestmark = pytest.mark.heavy

SUBSCRIBE = """subscription($round: ID!) { votingRoundUpdated(round: $round) {
    ranking { theme { slug } votes rank } } }"""


def _receive_next(ws, timeout: float = 10) -> dict:
    while True:
        message = json.loads(ws.recv(timeout=timeout))
        if message["type"] == "next":
            return message["payload"]
        assert message["type"] in ("ping", "pong"), message


def test_a_vote_pushes_the_new_ranking_to_subscribers(tmp_path):
    with live_server(tmp_path) as server:
        server.tec(
            "user",
            "create",
            "--email",
            "e@live.test",
            "--role",
            "editor",
            "--password-stdin",
            stdin="un mot de passe assez long\n",
        )
        server.tec(
            "user",
            "create",
            "--email",
            "m@live.test",
            "--role",
            "local-authority",
            "--territory",
            "niort",
            "--password-stdin",
            stdin="un mot de passe assez long\n",
        )
        editor = server.tec("token", "create", "--email", "e@live.test")
        member = server.tec("token", "create", "--email", "m@live.test")
        themes = server.graphql("{ themes(first: 3) { nodes { id slug } } }")["data"]["themes"]
        now = dt.datetime.now(dt.UTC)
        opened = server.graphql(
            """mutation($input: VotingRoundInput!) { openVotingRound(input: $input) {
                votingRound { id } } }""",
            {
                "input": {
                    "title": "Tour en direct",
                    "opensAt": (now - dt.timedelta(hours=1)).isoformat(),
                    "closesAt": (now + dt.timedelta(days=1)).isoformat(),
                    "candidates": [t["id"] for t in themes["nodes"]],
                }
            },
            token=editor,
        )
        round_id = opened["data"]["openVotingRound"]["votingRound"]["id"]
        ws_url = server.base_url.replace("http", "ws") + "/graphql"
        with connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:
            ws.send(json.dumps({"type": "connection_init"}))
            assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
            ws.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {"query": SUBSCRIBE, "variables": {"round": round_id}},
                    }
                )
            )
            first = _receive_next(ws)["data"]["votingRoundUpdated"]["ranking"]
            assert [entry["votes"] for entry in first] == [0, 0, 0]
            voted = server.graphql(
                """mutation($r: ID!, $t: ID!) { castVote(round: $r, theme: $t) {
                    votingRound { id } errors { code } } }""",
                {"r": round_id, "t": themes["nodes"][1]["id"]},
                token=member,
            )
            assert "errors" not in voted, voted
            assert voted["data"]["castVote"]["errors"] == [], voted
            pushed = _receive_next(ws, timeout=5)["data"]["votingRoundUpdated"]["ranking"]
            assert pushed[0] == {
                "theme": {"slug": themes["nodes"][1]["slug"]},
                "votes": 1,
                "rank": 1,
            }
            ws.send(json.dumps({"id": "1", "type": "complete"}))
