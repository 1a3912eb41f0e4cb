module github.com/gowho/gowho/bench

go 1.26.0

replace github.com/gowho/gowho => ../

require github.com/gowho/gowho v0.0.0

require (
	github.com/alexedwards/scs/v2 v2.9.0 // indirect
	github.com/gorilla/securecookie v1.1.2 // indirect
	github.com/gorilla/sessions v1.4.0 // indirect
)
