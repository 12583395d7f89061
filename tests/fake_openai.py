"""A small, real OpenAI-compatible HTTP server on loopback for fault injection in tests."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeOpenAI:
    "Serves `models`; answers chat completions with `answer(request, i)` (text, or a dict message with `tool_calls`); can fail, ignore n, or be slow."
    def __init__(self, models=('tiny',), answer=None, fail=(), ignore_n=False, delay=0.0):
        self.models, self.fail, self.ignore_n, self.delay = list(models), list(fail), ignore_n, delay
        self.answer = answer or (lambda req, i: f'```python\ndef f():\n    return {i}\n```')
        self.requests, self.lock = [], threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a): pass

            def _send(self, code, body, headers=()):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header('Content-Type', 'application/json'); self.send_header('Content-Length', str(len(data)))
                for k, v in headers: self.send_header(k, v)
                self.end_headers(); self.wfile.write(data)

            def do_GET(self):
                self._send(200, {'object': 'list', 'data': [{'id': m, 'object': 'model', 'created': 0, 'owned_by': 'test'} for m in outer.models]})

            def do_POST(self):
                req = json.loads(self.rfile.read(int(self.headers['Content-Length'])))
                with outer.lock:
                    outer.requests.append(req)
                    status = outer.fail.pop(0) if outer.fail else None
                if status: return self._send(status, {'error': {'message': f'injected {status}'}}, [('Retry-After', '0')])
                if req['model'] not in outer.models: return self._send(404, {'error': {'message': f"model {req['model']} not found"}})
                time.sleep(outer.delay)
                n = 1 if outer.ignore_n else req.get('n', 1)
                answers = [outer.answer(req, i) for i in range(n)]
                choices = [{'index': i, 'finish_reason': 'tool_calls' if isinstance(a, dict) and a.get('tool_calls') else 'stop',
                            'message': {'role': 'assistant', 'content': None, **a} if isinstance(a, dict) else {'role': 'assistant', 'content': a}}
                           for i, a in enumerate(answers)]
                self._send(200, {'id': 'c', 'object': 'chat.completion', 'created': 0, 'model': req['model'], 'choices': choices,
                                 'usage': {'prompt_tokens': 20, 'completion_tokens': 10 * n, 'total_tokens': 20 + 10 * n, 'cost': 0.001 * n}})

        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = f'http://127.0.0.1:{self.server.server_port}/v1'
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown(); self.server.server_close()
