"""A WSGI application for who's remote_user_key test (who/remoteuser_test.go).

It answers "set:VALUE" with environ['HTTP_REMOTE_USER'], or "unset". wsgiref
maps both "Remote-User" and "Remote_User" to HTTP_REMOTE_USER and joins
repeats with commas. It listens on a free loopback port and prints the port
on its first stdout line. Run: /usr/bin/python3 testdata/remote_user_app.py
"""
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server


def app(environ, start_response):
    v = environ.get("HTTP_REMOTE_USER")
    body = ("unset" if v is None else "set:" + v).encode("utf-8")
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


server = make_server("127.0.0.1", 0, app, handler_class=QuietHandler)
print(server.server_port, flush=True)
sys.stdout.close()
server.serve_forever()
