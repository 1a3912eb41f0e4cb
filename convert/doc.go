// Package convert turns a repoze.who who.ini into an equivalent gowho
// who.toml, reading the ini the way Python's configparser does.
package convert
