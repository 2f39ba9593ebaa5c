"""docs/webhooks.md's verification code works on what the platform sends."""

from __future__ import annotations

import re
import time

from services.webhooks.signing import generate_secret, headers


def _python_snippet(repo_root) -> dict:
    text = (repo_root / "docs" / "webhooks.md").read_text("utf-8")
    [code] = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    namespace: dict = {}
    exec(compile(code, "docs/webhooks.md", "exec"), namespace)
    return namespace


def test_the_documented_python_verifier_accepts_our_signatures_and_nothing_else(repo_root):
    verify = _python_snippet(repo_root)["verify_webhook"]
    secret, old = generate_secret(), generate_secret()
    body = b'{"type":"theme.next_changed","data":{"theme":null}}'
    now = int(time.time())
    sent = headers([secret, old], "msg_0123456789abcdef01234567", now, body)
    assert verify(secret, sent, body)
    assert verify(old, sent, body), "the previous secret still verifies after a rotation"
    assert not verify(generate_secret(), sent, body)
    assert not verify(secret, sent, body + b" ")
    assert not verify(secret, sent, body, now=now + 301), "a replay later is refused"
    vector = {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }
    assert verify(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", vector, b'{"test": 2432232314}', now=1614265330
    )
