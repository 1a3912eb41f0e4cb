// Package all brings in every built-in gowho plugin: import it for its
// side effect, as cmd/who does.
//
//	import _ "github.com/gowho/gowho/plugins/all"
package all

import (
	_ "github.com/gowho/gowho/plugins/authtkt"
	_ "github.com/gowho/gowho/plugins/basicauth"
	_ "github.com/gowho/gowho/plugins/form"
	_ "github.com/gowho/gowho/plugins/htpasswd"
	_ "github.com/gowho/gowho/plugins/jwt"
	_ "github.com/gowho/gowho/plugins/ldap"
	_ "github.com/gowho/gowho/plugins/memcached"
	_ "github.com/gowho/gowho/plugins/oidc"
	_ "github.com/gowho/gowho/plugins/redirector"
	_ "github.com/gowho/gowho/plugins/sessionid"
	_ "github.com/gowho/gowho/plugins/sqlauth"
	_ "github.com/gowho/gowho/plugins/throttle"
	_ "github.com/gowho/gowho/session/sessionplugin"
)
