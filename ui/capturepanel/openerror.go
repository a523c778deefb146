package capturepanel

import (
	"errors"
	"fmt"
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/capture"
)

// OpenErrorDialog tells the user why the capture store could not be opened
// at start and what happens now.
type OpenErrorDialog struct {
	title   string
	text    *widget.Label
	details *widget.Label
	// moveAside is nil unless the store can be moved aside (damaged, or of
	// another format).
	moveAside, carryOn *widget.Button
	dlg                *dialog.CustomDialog
}

// ShowOpenError shows why the capture store in dir could not be opened
// (err, from capture.Open). For a damaged store, or one of a format this
// version cannot read, it offers to move dir aside and start a new
// capture: if the user agrees, onMoveAside runs on the UI goroutine and
// the caller does the move (never a delete; see ShowMoveResult). In every
// other case (another instance holds the store, no permission, ...) the
// app goes on without capture and the dialog says so.
func ShowOpenError(w fyne.Window, dir string, err error, onMoveAside func()) *OpenErrorDialog {
	d := newOpenErrorDialog(w, dir, err, onMoveAside)
	d.dlg.Show()
	return d
}

// movable reports whether moving the store aside is the way out of err.
func movable(err error) bool {
	return errors.Is(err, capture.ErrCorrupt) || errors.Is(err, capture.ErrFormat)
}

func newOpenErrorDialog(w fyne.Window, dir string, err error, onMoveAside func()) *OpenErrorDialog {
	if abs, aerr := filepath.Abs(dir); aerr == nil {
		dir = abs
	}
	d := &OpenErrorDialog{}
	var msg string
	switch {
	case errors.Is(err, capture.ErrLocked):
		d.title = lang.L("The capture is in use")
		msg = fmt.Sprintf(lang.L("Another IoT Studio — a window or `iotstudio serve` — is already using the capture in\n\n%s\n\n"+
			"Only one can use a data folder at a time, so this window runs without capture "+
			"(the broker keeps its sessions in the same folder, so it may not start either).\n"+
			"Quit the other one and start IoT Studio again, or start this one with --data and another folder."), dir)
	case errors.Is(err, capture.ErrCorrupt):
		d.title = lang.L("The capture is damaged")
		msg = fmt.Sprintf(lang.L("The capture in\n\n%s\n\ncannot be opened: its files are damaged. Nothing has been deleted.\n\n"+
			"IoT Studio can move it aside (rename the folder to %s.damaged-DATE) and start a new, empty capture; "+
			"the old one stays there for you to inspect or delete. Or continue without capture."), dir, filepath.Base(dir))
	case errors.Is(err, capture.ErrFormat):
		d.title = lang.L("The capture is of another version")
		msg = fmt.Sprintf(lang.L("The capture in\n\n%s\n\nwas written in a format this version of IoT Studio cannot read. Nothing has been changed.\n\n"+
			"IoT Studio can move it aside (rename the folder to %s.damaged-DATE) and start a new, empty capture; "+
			"the version that wrote it can still read it there. Or continue without capture."), dir, filepath.Base(dir))
	case errors.Is(err, capture.ErrPermission):
		d.title = lang.L("No permission for the capture")
		msg = fmt.Sprintf(lang.L("IoT Studio may not read or write the capture in\n\n%s\n\n"+
			"This window runs without capture. Fix the folder's permissions and start again, "+
			"or start IoT Studio with --data and another folder."), dir)
	case errors.Is(err, capture.ErrNoSpace):
		d.title = lang.L("The disk is full")
		msg = fmt.Sprintf(lang.L("The disk that holds the capture in\n\n%s\n\nhas too little free space to open it (below: how much is free and needed). "+
			"This window runs without capture (and the broker, which keeps its sessions there too, may not start either).\n"+
			"Free space and start IoT Studio again, or start it with --data and a folder on another disk."), dir)
	default:
		d.title = lang.L("The capture cannot be opened")
		msg = fmt.Sprintf(lang.L("The capture in\n\n%s\n\ncannot be opened. This window runs without capture."), dir)
	}
	d.text = widget.NewLabel(msg)
	d.text.Wrapping = fyne.TextWrapWord
	d.details = hint(lang.L("Cause: ") + err.Error())
	d.details.Selectable = true

	d.carryOn = widget.NewButton(lang.L("Continue without capture"), nil)
	buttons := []fyne.CanvasObject{d.carryOn}
	if movable(err) && onMoveAside != nil {
		d.moveAside = widget.NewButtonWithIcon(lang.L("Move aside and start a new capture"), theme.FolderNewIcon(), nil)
		d.moveAside.Importance = widget.HighImportance
		buttons = append(buttons, d.moveAside)
	} else {
		d.carryOn.Importance = widget.HighImportance
	}
	d.dlg = dialog.NewCustomWithoutButtons(d.title, container.NewVBox(d.text, d.details), w)
	d.dlg.SetButtons(buttons)
	d.carryOn.OnTapped = d.dlg.Hide
	if d.moveAside != nil {
		d.moveAside.OnTapped = func() {
			d.dlg.Hide()
			onMoveAside()
		}
	}
	d.dlg.Resize(fyne.NewSize(640, 1)) // height: the minimum
	return d
}

// ShowMoveResult reports the move that ShowOpenError offered: dir was
// renamed to movedTo and a new capture started in dir, or err says what
// failed (the app then runs without capture).
func ShowMoveResult(w fyne.Window, dir, movedTo string, err error) {
	if err != nil {
		dialog.ShowError(fmt.Errorf(lang.L("The capture could not be moved aside: %w\n\nThis window runs without capture; nothing was deleted."), err), w)
		return
	}
	l := widget.NewLabel(fmt.Sprintf(lang.L("The old capture was moved to\n\n%s\n\nNothing was deleted. A new, empty capture is recording in\n\n%s"), movedTo, dir))
	l.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustom(lang.L("New capture started"), lang.L("OK"), l, w)
	d.Resize(fyne.NewSize(600, 1)) // height: the minimum
	d.Show()
}
