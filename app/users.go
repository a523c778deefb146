package app

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/iotstudio/iotstudio/engine/auth"
)

const usersUsage = `usage: iotstudio users add NAME     (reads the password from the first line of stdin)
       iotstudio users remove NAME
       iotstudio users list
flags: --data DIR, --users FILE`

func runUsers(args []string, e env) error {
	if len(args) == 0 {
		return usagef("%s", usersUsage)
	}
	verb := args[0]
	switch verb {
	case "add", "remove", "list":
	default:
		return usagef("unknown users command %q\n%s", verb, usersUsage)
	}
	fs := newFlagSet("users "+verb, e)
	data := fs.String("data", "", "data `DIR` (default: the user config dir)")
	file := fs.String("users", "", "users `FILE` (default DATA/users.yaml)")
	names, err := parseArgs(fs, args[1:])
	if err != nil {
		return err
	}
	path, err := usersPath(*data, *file)
	if err != nil {
		return err
	}
	switch verb {
	case "add":
		if len(names) != 1 {
			return usagef("users add takes one NAME\n%s", usersUsage)
		}
		return addUser(path, names[0], e)
	case "remove":
		if len(names) != 1 {
			return usagef("users remove takes one NAME\n%s", usersUsage)
		}
		return removeUser(path, names[0], e)
	}
	if len(names) > 0 {
		return usagef("users list: unexpected argument %q", names[0])
	}
	return listUsers(path, e)
}

func usersPath(data, file string) (string, error) {
	if file != "" {
		return file, nil
	}
	dir, err := dataDir(data)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "users.yaml"), nil
}

func loadOrEmpty(path string) (*auth.Users, error) {
	u, err := auth.Load(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &auth.Users{}, nil
	}
	return u, err
}

func addUser(path, name string, e env) error {
	password, err := readPassword(e.stdin)
	if err != nil {
		return err
	}
	users, err := loadOrEmpty(path)
	if err != nil {
		return err
	}
	if err := users.SetPassword(name, password); err != nil {
		return usageError{err}
	}
	if err := users.Save(path); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "user %q saved in %s\n", name, path)
	return nil
}

// readPassword takes the first line of stdin, so that `echo pw | iotstudio
// users add NAME` and an interactive paste both work.
func readPassword(r io.Reader) ([]byte, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read password from stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return nil, usagef("no password on stdin: pipe it in, e.g. `printf '%%s\\n' \"$PW\" | iotstudio users add NAME`")
	}
	return []byte(line), nil
}

func removeUser(path, name string, e env) error {
	users, err := auth.Load(path)
	if err != nil {
		return err
	}
	if !users.Remove(name) {
		return usagef("no user %q in %s", name, path)
	}
	if err := users.Save(path); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "user %q removed from %s\n", name, path)
	return nil
}

func listUsers(path string, e env) error {
	users, err := loadOrEmpty(path)
	if err != nil {
		return err
	}
	for _, u := range users.List {
		rules := make([]string, 0, len(u.ACL))
		for _, r := range u.ACL {
			rules = append(rules, r.Access.String()+" "+r.Filter)
		}
		acl := "full access"
		if len(rules) > 0 {
			acl = strings.Join(rules, ", ")
		}
		fmt.Fprintf(e.stdout, "%s\t%s\n", u.Name, acl)
	}
	return nil
}
