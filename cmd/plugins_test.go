package whocmd

import (
	_ "github.com/gowho/gowho/plugins/all"
	_ "modernc.org/sqlite" // the "sqlite" driver, as cmd/who links it
)
