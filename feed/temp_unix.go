//go:build unix

package feed

import (
	"errors"
	"syscall"
)

// alive reports whether a process of that id runs (signal 0 checks without
// sending anything; EPERM is a process of another user).
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
