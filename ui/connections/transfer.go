package connections

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/client"
)

// exportNote is what the export dialog says about secrets.
const exportNote = "The file holds every connection's settings but no secrets: passwords, key passphrases and " +
	"Azure device keys stay in this computer's keyring. Whoever imports the file is asked for them at connect. " +
	"Certificate and key files are referred to by path, not copied."

// transferDialog asks for a file, then exports to or imports from it.
type transferDialog struct {
	path    *widget.Entry
	errText *widget.Label
	dlg     *dialog.CustomDialog
}

func (p *Panel) newTransferDialog(title, action, note string, save bool, run func(path string) error) *transferDialog {
	d := &transferDialog{path: entryWith("", lang.L("file path, e.g. connections-export.json"))}
	browse := widget.NewButtonWithIcon(lang.L("Browse…"), theme.FolderOpenIcon(), func() { p.browse(d.path, save) })
	d.errText = widget.NewLabel("")
	d.errText.Importance = widget.DangerImportance
	d.errText.Wrapping = fyne.TextWrapWord
	d.errText.Hide()
	text := widget.NewLabel(note)
	text.Wrapping = fyne.TextWrapWord
	content := container.NewVBox(text, container.NewBorder(nil, nil, nil, browse, d.path), d.errText)
	ok := widget.NewButton(action, func() {
		path := strings.TrimSpace(d.path.Text)
		if path == "" {
			d.errText.SetText(lang.L("Give a file path, or choose one with Browse…."))
			d.errText.Show()
			return
		}
		if err := run(path); err != nil {
			d.errText.SetText(err.Error())
			d.errText.Show()
			return
		}
		d.dlg.Hide()
	})
	ok.Importance = widget.HighImportance
	d.dlg = dialog.NewCustomWithoutButtons(title, content, p.win)
	d.dlg.SetButtons([]fyne.CanvasObject{widget.NewButton(lang.L("Cancel"), func() { d.dlg.Hide() }), ok})
	d.dlg.Resize(fyne.NewSize(640, 300))
	return d
}

// browse fills entry from a file dialog.
func (p *Panel) browse(entry *widget.Entry, save bool) {
	set := func(u fyne.URI) { entry.SetText(u.Path()) }
	var d *dialog.FileDialog
	if save {
		// A folder, not a save dialog: that one creates (and empties) the
		// file before the export is even confirmed.
		d = dialog.NewFolderOpen(func(dir fyne.ListableURI, err error) {
			if err == nil && dir != nil {
				entry.SetText(filepath.Join(dir.Path(), "iotstudio-connections.json"))
			}
		}, p.win)
	} else {
		d = dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
			if err == nil && r != nil {
				r.Close()
				set(r.URI())
			}
		}, p.win)
	}
	if dir := folderOf(entry.Text); dir != nil {
		d.SetLocation(dir)
	}
	d.Resize(fyne.NewSize(760, 540))
	d.Show()
}

func (p *Panel) onExport() {
	p.newTransferDialog(lang.L("Export connections"), lang.L("Export"), lang.L(exportNote), true, p.exportTo).dlg.Show()
}

func (p *Panel) onImport() {
	note := lang.L("Adds the connections in a file made by Export. Names already in the list get a number. ") +
		lang.L("The file holds no secrets: you are asked for them at connect.")
	p.newTransferDialog(lang.L("Import connections"), lang.L("Import"), note, false, p.importFrom).dlg.Show()
}

// exportTo writes every profile but the built-in local one (it points at
// this machine's broker) to path.
func (p *Panel) exportTo(path string) error {
	ps := slices.DeleteFunc(slices.Clone(p.profiles), func(q client.Profile) bool { return q.ID == LocalID })
	// Through a temporary file, so that a failure leaves an existing file
	// as it was.
	f, err := os.CreateTemp(filepath.Dir(path), ".iotstudio-connections-*")
	if err != nil {
		return fmt.Errorf(lang.L("Could not export the connections: %w"), err)
	}
	defer os.Remove(f.Name())
	err = client.Export(f, ps)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf(lang.L("Could not export the connections to %s: %w"), path, err)
	}
	dialog.ShowInformation(lang.L("Connections exported"), fmt.Sprintf(lang.L("%d connections written to %s, without their secrets."), len(ps), path), p.win)
	return nil
}

// importFrom adds the profiles in path, renaming those whose name is
// taken; nothing is added unless all of them can be read.
func (p *Panel) importFrom(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf(lang.L("Could not import the connections: %w"), err)
	}
	defer f.Close()
	in, err := client.Import(f)
	if err != nil {
		return fmt.Errorf(lang.L("Could not read connections from %s: %w"), path, err)
	}
	if len(in) == 0 {
		return errors.New(lang.L("The file holds no connections."))
	}
	used := p.usedNames("")
	var renamed []string
	for i := range in {
		name := in[i].Name
		for n := 2; used[strings.ToLower(in[i].Name)]; n++ {
			in[i].Name = fmt.Sprintf("%s (%d)", name, n)
		}
		if in[i].Name != name {
			renamed = append(renamed, fmt.Sprintf(lang.L("%q as %q"), name, in[i].Name))
		}
		used[strings.ToLower(in[i].Name)] = true
	}
	if err := p.save(append(slices.Clone(p.profiles), in...)); err != nil {
		return err
	}
	msg := fmt.Sprintf(lang.L("%d connections imported."), len(in))
	if len(renamed) > 0 {
		msg += lang.L(" Renamed, since the names were taken: ") + strings.Join(renamed, ", ") + "."
	}
	dialog.ShowInformation(lang.L("Connections imported"), msg, p.win)
	return nil
}
