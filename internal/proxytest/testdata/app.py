"""The upstream of the proxy tests: a WSGI application served by waitress.

Every answer is a JSON object of what the application was given: the path,
the query, REMOTE_USER and every HTTP_* variable (the request headers as
CGI, WSGI and PHP read them). /stream answers three chunks of an unknown
length, the second after the first was written.
"""
import json


def app(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path == "/stream":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return (("chunk %d\n" % i).encode() for i in range(3))
    seen = {k: v for k, v in environ.items() if k.startswith("HTTP_")}
    seen["REMOTE_USER"] = environ.get("REMOTE_USER")
    seen["PATH_INFO"] = path
    seen["QUERY_STRING"] = environ.get("QUERY_STRING", "")
    body = json.dumps(seen, sort_keys=True).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
