package app

import (
	"fmt"

	"golang.org/x/sys/windows"
)

func lowerPriority() error {
	if err := windows.SetPriorityClass(windows.CurrentProcess(), windows.BELOW_NORMAL_PRIORITY_CLASS); err != nil {
		return fmt.Errorf("set priority class: %w", err)
	}
	return nil
}
