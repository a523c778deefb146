//go:build windows

package app

import (
	"log"
	"os"

	"golang.org/x/sys/windows"
)

// The Windows build is a GUI-subsystem program (-H=windowsgui), so that a
// double-click opens the window without a console window beside it. Such
// a program gets no console from Windows: run from cmd or PowerShell,
// `iotstudio version` or `serve` would print nothing. So at start it
// attaches to the console of the process that started it, when there is
// one, and writes stdout and stderr there unless they were redirected
// (a pipe or a file already works and is left alone). Started from
// Explorer or the Start menu there is no parent console and nothing
// changes.
//
// Stdin is not taken from the console: cmd does not wait for a GUI
// program and keeps reading the console itself, so both would read the
// same keys. `users add` reads the password from a pipe instead
// (`echo secret| iotstudio.exe users add NAME`).
func init() {
	attachParentConsole()
}

// attachParentProcess is ATTACH_PARENT_PROCESS, (DWORD)-1.
const attachParentProcess = ^uint32(0)

var procAttachConsole = windows.NewLazySystemDLL("kernel32.dll").NewProc("AttachConsole")

func attachParentConsole() {
	outMissing := !stdHandleOpen(windows.STD_OUTPUT_HANDLE)
	errMissing := !stdHandleOpen(windows.STD_ERROR_HANDLE)
	if !outMissing && !errMissing {
		return
	}
	if ok, _, _ := procAttachConsole.Call(uintptr(attachParentProcess)); ok == 0 {
		return // no parent console: started from Explorer, the Start menu or a service
	}
	if outMissing {
		if f := openConsoleOutput(windows.STD_OUTPUT_HANDLE, "/dev/stdout"); f != nil {
			os.Stdout = f
		}
	}
	if errMissing {
		if f := openConsoleOutput(windows.STD_ERROR_HANDLE, "/dev/stderr"); f != nil {
			os.Stderr = f
			// The standard logger captured the old os.Stderr at its init;
			// Fyne and Badger log through it.
			log.SetOutput(f)
		}
	}
}

// stdHandleOpen reports whether the process was given a usable handle for
// the stream: a GUI program started from a console without redirection
// gets none (NULL), one with redirection gets the pipe or file.
func stdHandleOpen(which uint32) bool {
	h, err := windows.GetStdHandle(which)
	if err != nil || h == 0 || h == windows.InvalidHandle {
		return false
	}
	_, err = windows.GetFileType(h)
	return err == nil
}

// openConsoleOutput opens the attached console's screen buffer and makes
// it the process's standard handle, so that child processes inherit it.
func openConsoleOutput(which uint32, name string) *os.File {
	conout, err := windows.UTF16PtrFromString("CONOUT$")
	if err != nil {
		return nil
	}
	h, err := windows.CreateFile(conout, windows.GENERIC_READ|windows.GENERIC_WRITE,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil, windows.OPEN_EXISTING, 0, 0)
	if err != nil {
		return nil
	}
	_ = windows.SetStdHandle(which, h)
	return os.NewFile(uintptr(h), name)
}
