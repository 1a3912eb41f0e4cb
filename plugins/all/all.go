// Package all brings in every built-in gowho plugin: import it for its
// side effect, as cmd/who does.
//
//	import _ "github.com/gowho/gowho/plugins/all"
package all

import (
	_ "github.com/gowho/gowho/plugins/basicauth"
	_ "github.com/gowho/gowho/plugins/htpasswd"
)
