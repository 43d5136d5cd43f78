"""Run by test_offline.py in a fresh process (and, where possible, a network namespace with only
loopback): start the router with an Anthropic deployment, which imports litellm, and serve one
request. litellm's cost-map URL points at a loopback port that accepts but never answers, the
way a black-holed network behaves; any fetch would stall there and show up as a connection.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time

black_hole = socket.socket()
black_hole.bind(("127.0.0.1", 0))
black_hole.listen(16)
black_hole.setblocking(False)
os.environ["LITELLM_MODEL_COST_MAP_URL"] = f"http://127.0.0.1:{black_hole.getsockname()[1]}/cost.json"
os.environ["HF_ENDPOINT"] = f"http://127.0.0.1:{black_hole.getsockname()[1]}"

started = time.monotonic()
import openai  # noqa: E402

from tests.llm.fakes import FakeAnthropic, serve_fakes  # noqa: E402
from tests.llm.server import serve_router  # noqa: E402

fake = FakeAnthropic("claude")
with serve_fakes(fake):
    settings = {
        "model_list": [
            {
                "model_name": "claude",
                "litellm_params": {
                    "model": "anthropic/claude-3-5-haiku-20241022",
                    "api_base": fake.base_url,
                    "api_key": "sk-test",
                },
            }
        ]
    }
    with serve_router(settings) as router:
        ready_s = time.monotonic() - started
        client = openai.OpenAI(base_url=router.base_url, api_key="x", max_retries=0, timeout=10)
        reply = client.chat.completions.create(model="claude", messages=[{"role": "user", "content": "hi"}])
        # the usage worker counts tokens offline too; give it a moment to reach for any network
        router.records()
        time.sleep(0.5)
try:
    black_hole.accept()
    contacted = True
except BlockingIOError:
    contacted = False
json.dump({"ready_s": ready_s, "text": reply.choices[0].message.content, "contacted": contacted}, sys.stdout)
