#!/bin/sh
# A CGI script for TestRemoteUserKeyThroughCGI (who/remoteuser_test.go): it
# answers "set:VALUE" with its HTTP_REMOTE_USER, or "unset".
printf 'Content-Type: text/plain\r\n\r\n'
if [ -n "${HTTP_REMOTE_USER+x}" ]; then
	printf 'set:%s' "$HTTP_REMOTE_USER"
else
	printf 'unset'
fi
