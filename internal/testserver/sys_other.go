//go:build !linux

package testserver

import (
	"os/user"
	"syscall"
)

func sysProcAttr() *syscall.SysProcAttr { return nil }

func lookupUser(name string) (*user.User, error) { return user.Lookup(name) }
