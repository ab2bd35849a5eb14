"""A scripted LLM provider on 127.0.0.1 for tests.

It speaks OpenAI's chat-completions protocol (``POST /v1/chat/completions``) and Anthropic's
messages API (``POST /v1/messages``), each plain or streamed as server-sent events when the
request asks for ``"stream": true``, so the real LangChain clients talk to it over HTTP. Each
request gets the next scripted `Reply` (or the reply routed by a word of the prompt), and is
recorded for assertions. Nothing of the project is involved.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Reply:
    text: str = ""
    hang: bool = False  # answer nothing until the server closes (a provider that never answers)
    stall_after: int | None = None  # when streaming, send this many pieces, then hang
    status: int = 200  # non-200: a provider-shaped error body
    piece_chars: int = 10  # size of the streamed pieces


class ScriptedLLM:
    """The server; use as a context manager. `openai_url` and `anthropic_url` are base URLs."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self._queue: deque[Reply] = deque()
        self._routes: dict[str, Reply] = {}
        self._lock = threading.Lock()
        self.release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.scripted = self
        self._thread = threading.Thread(target=self._server.serve_forever, name="scripted-llm", daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def openai_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def anthropic_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ScriptedLLM:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def reply(self, *replies: Reply | str) -> None:
        """Answer the next requests, in order, with these replies."""
        with self._lock:
            self._queue.extend(Reply(r) if isinstance(r, str) else r for r in replies)

    def route(self, routes: dict[str, Reply | str]) -> None:
        """Answer any request whose last user message contains a key with that key's reply."""
        with self._lock:
            self._routes = {k: Reply(v) if isinstance(v, str) else v for k, v in routes.items()}

    def next_reply(self, body: dict) -> Reply:
        prompt = user_text(body)
        with self._lock:
            for key, reply in self._routes.items():
                if key in prompt:
                    return reply
            if self._queue:
                return self._queue.popleft()
        return Reply(status=500, text="no scripted reply left")


def user_text(body: dict) -> str:
    """The last user message of an OpenAI or Anthropic request body, as text."""
    content = [m for m in body.get("messages", []) if m.get("role") == "user"][-1]["content"]
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content)
    return content


def system_text(body: dict) -> str:
    """The system prompt of an OpenAI (a message) or Anthropic (a field) request body."""
    if "system" in body:
        system = body["system"]
        return system if isinstance(system, str) else "".join(part.get("text", "") for part in system)
    return next(m["content"] for m in body["messages"] if m["role"] in ("system", "developer"))


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        scripted: ScriptedLLM = self.server.scripted
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        scripted.requests.append({"path": self.path, "body": body, "headers": dict(self.headers)})
        reply = scripted.next_reply(body)
        anthropic = self.path.rstrip("/").endswith("/messages")
        if reply.hang:
            scripted.release.wait(timeout=60)
            return
        if reply.status != 200:
            error = ({"type": "error", "error": {"type": "api_error", "message": reply.text}} if anthropic
                     else {"error": {"message": reply.text, "type": "server_error", "param": None, "code": None}})
            self._send_json(reply.status, error)
            return
        model = body.get("model", "scripted")
        if not body.get("stream"):
            self._send_json(200, _anthropic_message(model, reply.text) if anthropic else _openai_completion(model, reply.text))
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        pieces = [reply.text[i:i + reply.piece_chars] for i in range(0, len(reply.text), reply.piece_chars)]
        events = _anthropic_events(model, pieces) if anthropic else _openai_events(model, pieces, body)
        sent_pieces = 0
        for event, is_piece in events:
            if is_piece and reply.stall_after is not None and sent_pieces >= reply.stall_after:
                scripted.release.wait(timeout=60)
                return
            self.wfile.write(event.encode())
            self.wfile.flush()
            sent_pieces += is_piece

    def _send_json(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _openai_completion(model: str, text: str) -> dict:
    return {"id": "chatcmpl-scripted", "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


def _openai_events(model: str, pieces: list[str], body: dict):
    def chunk(delta: dict, finish: str | None = None, **extra) -> str:
        payload = {"id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": 0, "model": model,
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(payload)}\n\n"

    yield chunk({"role": "assistant", "content": ""}), False
    for piece in pieces:
        yield chunk({"content": piece}), True
    yield chunk({}, "stop"), False
    if (body.get("stream_options") or {}).get("include_usage"):
        usage = {"id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": 0, "model": model,
                 "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
        yield f"data: {json.dumps(usage)}\n\n", False
    yield "data: [DONE]\n\n", False


def _anthropic_message(model: str, text: str) -> dict:
    return {"id": "msg_scripted", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 1}}


def _anthropic_events(model: str, pieces: list[str]):
    def event(name: str, payload: dict) -> str:
        return f"event: {name}\ndata: {json.dumps(payload)}\n\n"

    start = _anthropic_message(model, "")
    start.update(content=[], stop_reason=None)
    yield event("message_start", {"type": "message_start", "message": start}), False
    yield event("content_block_start", {"type": "content_block_start", "index": 0,
                                        "content_block": {"type": "text", "text": ""}}), False
    for piece in pieces:
        yield event("content_block_delta", {"type": "content_block_delta", "index": 0,
                                            "delta": {"type": "text_delta", "text": piece}}), True
    yield event("content_block_stop", {"type": "content_block_stop", "index": 0}), False
    yield event("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                  "usage": {"output_tokens": 1}}), False
    yield event("message_stop", {"type": "message_stop"}), False
