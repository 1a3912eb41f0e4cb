"""The Python side of internal/differences' table.

Reads {"secret", "passwd", "login_url", "rows": [{"name", "probe",
"raw"}]} as JSON on stdin (raw: the HTTP request's bytes as Latin-1, turned
into an environ by wsgiref.simple_server's own request handler), runs each row through Python repoze.who 2.2
(Debian's python3-repoze.who) and prints one JSON object per row:
{"name", "status", "headers", "body", "error", "value"}. Answers are
WSGI strings (PEP 3333: bytes as Latin-1).

Probes:
  middleware  the request through PluggableAuthenticationMiddleware with
              the chain of who.toml: identifiers auth_tkt, basicauth;
              authenticators auth_tkt, htpasswd (crypt_check); challengers
              redirector;browser, basicauth; the default classifier and
              challenge decider. The application answers 401 under
              /protected when nobody is logged in, else 200 with
              "user=REMOTE_USER class=CLASSIFICATION".
  classify    default_request_classifier(environ)
  forget      the auth_tkt plugin's forget(environ, {}) headers
Run by hand: python3 repoze_who.py < rows.json
"""
import io
import json
import sys
import warnings

warnings.simplefilter("ignore", DeprecationWarning)

from wsgiref.simple_server import WSGIRequestHandler

from repoze.who.classifiers import default_challenge_decider
from repoze.who.classifiers import default_request_classifier
from repoze.who.interfaces import IChallenger
from repoze.who.middleware import PluggableAuthenticationMiddleware
from repoze.who.plugins.auth_tkt import AuthTktCookiePlugin
from repoze.who.plugins.basicauth import BasicAuthPlugin
from repoze.who.plugins.htpasswd import HTPasswdPlugin, crypt_check
from repoze.who.plugins.redirector import RedirectorPlugin


def app(environ, start_response):
    user = environ.get("REMOTE_USER")
    if environ["PATH_INFO"].startswith("/protected") and not user:
        start_response("401 Unauthorized", [("Content-Type", "text/plain")])
        return [b"no"]
    api = environ["repoze.who.api"]
    body = "user=%s class=%s data=%s" % (
        user, api.classification, environ.get("REMOTE_USER_DATA", ""))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body.encode("utf-8")]


def build(cfg):
    auth_tkt = AuthTktCookiePlugin(cfg["secret"], "auth_tkt")
    basicauth = BasicAuthPlugin("differences")
    htpasswd = HTPasswdPlugin(cfg["passwd"], crypt_check)
    redirector = RedirectorPlugin(cfg["login_url"])
    redirector.classifications = {IChallenger: ["browser"]}
    mw = PluggableAuthenticationMiddleware(
        app,
        [("auth_tkt", auth_tkt), ("basicauth", basicauth)],
        [("auth_tkt", auth_tkt), ("htpasswd", htpasswd)],
        [("redirector", redirector), ("basicauth", basicauth)],
        [],
        default_request_classifier,
        default_challenge_decider,
    )
    return mw, auth_tkt


class _Server(object):
    """What WSGIRequestHandler.get_environ reads from its server."""
    base_environ = {}


def parsed_environ(raw):
    """The environ wsgiref.simple_server makes of the raw request (a
    Latin-1 string of its bytes): the real handler's parse_request and
    get_environ, so repeated headers are joined with ',' as there."""
    h = WSGIRequestHandler.__new__(WSGIRequestHandler)
    h.rfile = io.BytesIO(raw.encode("latin-1"))
    h.wfile = io.BytesIO()
    h.server = _Server()
    h.client_address = ("127.0.0.1", 5000)
    h.raw_requestline = h.rfile.readline()
    if not h.parse_request():
        raise ValueError("wsgiref refused the request: %r" % h.wfile.getvalue())
    return h.get_environ()


def environ_of(row):
    env = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "SERVER_NAME": "server.example",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": None,
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": True,
    }
    env.update(parsed_environ(row["raw"]))
    return env


def run(mw, auth_tkt, row):
    env = environ_of(row)
    out = {"name": row["name"]}
    probe = row["probe"]
    try:
        if probe == "classify":
            out["value"] = default_request_classifier(env)
        elif probe == "forget":
            out["headers"] = [list(h) for h in auth_tkt.forget(env, {})]
        elif probe == "middleware":
            got = {}

            def start_response(status, headers, exc_info=None):
                got["status"] = status
                got["headers"] = headers

            body = b"".join(mw(env, start_response))
            out["status"] = int(got["status"].split(" ", 1)[0])
            out["headers"] = [list(h) for h in got["headers"]]
            out["body"] = body.decode("latin-1")
        else:
            raise ValueError("unknown probe %r" % probe)
    except Exception as e:  # what a WSGI server turns into a 500
        out["error"] = "%s: %s" % (type(e).__name__, e)
    return out


def main():
    cfg = json.load(sys.stdin)
    mw, auth_tkt = build(cfg)
    for row in cfg["rows"]:
        print(json.dumps(run(mw, auth_tkt, row)))


if __name__ == "__main__":
    main()
