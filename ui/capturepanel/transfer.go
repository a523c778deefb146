package capturepanel

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/ui/numfmt"
)

// Export formats, as the radio group shows them.
const (
	formatJSONL = "JSON Lines (.jsonl) — lossless, can be imported again"
	formatCSV   = "CSV (.csv) — one row per message, for spreadsheets"
)

// describeForm says in words what the search form selects.
func (p *Panel) describeForm() string {
	var parts []string
	if f := p.filter.Text; f != "" {
		parts = append(parts, lang.L("topic ")+f)
	} else {
		parts = append(parts, lang.L("every topic"))
	}
	if s := strings.TrimSpace(p.since.Text); s != "" {
		parts = append(parts, lang.L("since ")+s)
	}
	if s := strings.TrimSpace(p.until.Text); s != "" {
		parts = append(parts, lang.L("until ")+s)
	}
	if s := p.contains.Text; s != "" {
		parts = append(parts, fmt.Sprintf(lang.L("payload contains %q"), s))
	}
	if s := p.where.Text; s != "" {
		parts = append(parts, lang.L("where ")+s)
	}
	return strings.Join(parts, " · ")
}

// currentSearch is the search the results show (or, before the first
// search, the one the form describes).
func (p *Panel) currentSearch() (capture.Query, string, error) {
	if p.ctx != nil {
		return p.query, p.queryDesc, nil
	}
	q, err := p.formQuery(time.Now())
	return q, p.describeForm(), err
}

// pathEntry is a file path entry with a Browse… button.
func pathEntry(placeholder string, browse func()) (*widget.Entry, *widget.Button, fyne.CanvasObject) {
	e := widget.NewEntry()
	e.SetPlaceHolder(placeholder)
	b := widget.NewButtonWithIcon(lang.L("Browse…"), theme.FolderOpenIcon(), browse)
	return e, b, container.NewBorder(nil, nil, nil, b, e)
}

// folderOf is the folder a file dialog should open in for path, if it
// exists.
func folderOf(path string) fyne.ListableURI {
	dir := filepath.Dir(path)
	if path == "" {
		var err error
		if dir, err = os.UserHomeDir(); err != nil {
			return nil
		}
	}
	l, err := storage.ListerForURI(storage.NewFileURI(dir))
	if err != nil {
		return nil
	}
	return l
}

// exportDialog asks where to export the current search, and in which
// format.
type exportDialog struct {
	what           *widget.Label
	format         *widget.RadioGroup
	path           *widget.Entry
	browse         *widget.Button
	errText        *widget.Label
	cancel, export *widget.Button
	dlg            *dialog.CustomDialog
}

func (p *Panel) onExport() {
	if p.store == nil || p.act != nil {
		return
	}
	q, desc, err := p.currentSearch()
	if err != nil {
		dialog.ShowError(fmt.Errorf(lang.L("The search form is not valid, so there is nothing to export: %w"), err), p.win)
		return
	}
	d := &exportDialog{}
	what := lang.L("every message of the current search")
	if p.ctx != nil && !p.loading && p.next == "" {
		what = fmt.Sprintf(lang.L("the %s of the current search"), numfmt.Plural(int64(len(p.recs)), "message", "messages"))
	}
	d.what = widget.NewLabel(fmt.Sprintf(lang.L("Exports %s (%s), oldest first."), what, desc))
	d.what.Wrapping = fyne.TextWrapWord
	d.format = widget.NewRadioGroup([]string{formatJSONL, formatCSV}, nil)
	d.format.Required = true
	d.format.SetSelected(formatJSONL)
	var row fyne.CanvasObject
	d.path, d.browse, row = pathEntry(lang.L("File to write"), func() { p.browseExport(d) })
	if home, err := os.UserHomeDir(); err == nil {
		d.path.SetText(filepath.Join(home, "iotstudio-capture-"+time.Now().Format("20060102-150405")+".jsonl"))
	}
	d.format.OnChanged = func(f string) {
		ext := ".jsonl"
		if f == formatCSV {
			ext = ".csv"
		}
		if old := filepath.Ext(d.path.Text); old == ".jsonl" || old == ".csv" {
			d.path.SetText(strings.TrimSuffix(d.path.Text, old) + ext)
		}
	}
	d.path.OnChanged = func(string) { setLabel(d.errText, "", widget.DangerImportance) }
	d.errText = errLabel()
	form := container.New(layout.NewFormLayout(),
		widget.NewLabel(lang.L("Format")), d.format,
		widget.NewLabel(lang.L("File")), row)
	content := container.NewVBox(d.what, form,
		hint(lang.L("The file is written under a temporary name and renamed when complete: a cancelled or failed export leaves no partial file.")),
		d.errText)
	d.cancel = widget.NewButton(lang.L("Cancel"), nil)
	d.export = widget.NewButtonWithIcon(lang.L("Export"), theme.DownloadIcon(), func() { p.startExport(d, q) })
	d.export.Importance = widget.HighImportance
	d.dlg = dialog.NewCustomWithoutButtons(lang.L("Export the search"), content, p.win)
	d.dlg.SetButtons([]fyne.CanvasObject{d.cancel, d.export})
	d.cancel.OnTapped = d.dlg.Hide
	d.dlg.Resize(fyne.NewSize(680, 1)) // height: the minimum
	p.exportDlg = d
	d.dlg.Show()
}

// browseExport picks the folder to export into; the file name stays in
// the entry. Fyne's save dialog would open (and so truncate) an existing
// file it is pointed at before the export even starts, losing its content
// if the export is then cancelled or fails.
func (p *Panel) browseExport(d *exportDialog) {
	name := filepath.Base(strings.TrimSpace(d.path.Text))
	if name == "." || name == string(filepath.Separator) {
		name = "iotstudio-capture.jsonl"
	}
	pick := dialog.NewFolderOpen(func(dir fyne.ListableURI, err error) {
		if err != nil {
			setLabel(d.errText, err.Error(), widget.DangerImportance)
			return
		}
		if dir == nil {
			return // cancelled
		}
		d.path.SetText(filepath.Join(dir.Path(), name))
	}, p.win)
	if l := folderOf(d.path.Text); l != nil {
		pick.SetLocation(l)
	}
	pick.Resize(fyne.NewSize(800, 560))
	pick.Show()
}

// checkOutputPath catches the mistakes worth a message before any work.
func checkOutputPath(path string) error {
	if path == "" {
		return errors.New(lang.L("choose the file to write (Browse…)"))
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf(lang.L("%s is a folder; give a file name"), path)
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
		return fmt.Errorf(lang.L("folder %s does not exist"), filepath.Dir(path))
	}
	return nil
}

func (p *Panel) startExport(d *exportDialog, q capture.Query) {
	path := strings.TrimSpace(d.path.Text)
	if err := checkOutputPath(path); err != nil {
		setLabel(d.errText, err.Error(), widget.DangerImportance)
		return
	}
	format := "jsonl"
	if d.format.Selected == formatCSV {
		format = "csv"
	}
	store := p.store
	total := p.exportTotal(q)
	started := p.startAction(job{
		title:       lang.L("Export"),
		cancellable: true,
		status: func(done, total int64) string {
			if total > 0 {
				return fmt.Sprintf(lang.L("Exporting to %s… %s of %s written"), filepath.Base(path), numfmt.Count(done), numfmt.Plural(total, "record", "records"))
			}
			return fmt.Sprintf(lang.L("Exporting to %s… %s written"), filepath.Base(path), numfmt.Plural(done, "record", "records"))
		},
		run: func(ctx context.Context, progress func(int64, int64)) (string, error) {
			n, err := capture.ExportFile(ctx, store, q, format, path, func(n int64) { progress(n, total) })
			if err != nil {
				if ctx.Err() != nil {
					return fmt.Sprintf(lang.L("Export cancelled after %s; %s was not written."), numfmt.Plural(n, "record", "records"), path), context.Canceled
				}
				return "", err
			}
			return fmt.Sprintf(lang.L("Exported %s to %s."), numfmt.Plural(n, "record", "records"), path), nil
		},
	})
	if started {
		d.dlg.Hide()
	}
}

// exportTotal estimates how many records exporting q writes, for the
// progress bar: all the results when they are all loaded, all the records
// when q selects everything; -1 when unknown.
func (p *Panel) exportTotal(q capture.Query) int64 {
	switch {
	case p.ctx != nil && !p.loading && p.next == "":
		return int64(len(p.recs))
	case q.Filter == "" && q.Since.IsZero() && q.Until.IsZero() && q.Contains == "" && q.Where == nil && p.haveStats:
		return p.stats.Records
	}
	return -1
}

// importDialog asks which file to import.
type importDialog struct {
	path         *widget.Entry
	browse       *widget.Button
	errText      *widget.Label
	cancel, doIt *widget.Button
	dlg          *dialog.CustomDialog
}

func (p *Panel) onImport() {
	if p.store == nil || p.act != nil {
		return
	}
	d := &importDialog{}
	var row fyne.CanvasObject
	d.path, d.browse, row = pathEntry(lang.L("JSON Lines file to import"), func() { p.browseImport(d) })
	d.path.OnChanged = func(string) { setLabel(d.errText, "", widget.DangerImportance) }
	d.path.OnSubmitted = func(string) { p.startImport(d) }
	d.errText = errLabel()
	content := container.NewVBox(
		container.New(layout.NewFormLayout(), widget.NewLabel(lang.L("File")), row),
		hint(lang.L("A JSON Lines file written by Export… or `iotstudio capture export`. Every message keeps its time, "+
			"topic, payload and properties. The whole file is checked first: if any line is bad, nothing is imported.")),
		d.errText)
	d.cancel = widget.NewButton(lang.L("Cancel"), nil)
	d.doIt = widget.NewButtonWithIcon(lang.L("Import"), theme.UploadIcon(), func() { p.startImport(d) })
	d.doIt.Importance = widget.HighImportance
	d.dlg = dialog.NewCustomWithoutButtons(lang.L("Import into the capture"), content, p.win)
	d.dlg.SetButtons([]fyne.CanvasObject{d.cancel, d.doIt})
	d.cancel.OnTapped = d.dlg.Hide
	d.dlg.Resize(fyne.NewSize(640, 1)) // height: the minimum
	p.importDlg = d
	d.dlg.Show()
}

func (p *Panel) browseImport(d *importDialog) {
	open := dialog.NewFileOpen(func(rc fyne.URIReadCloser, err error) {
		if err != nil {
			setLabel(d.errText, err.Error(), widget.DangerImportance)
			return
		}
		if rc == nil {
			return
		}
		path := rc.URI().Path()
		_ = rc.Close()
		d.path.SetText(path)
	}, p.win)
	if l := folderOf(d.path.Text); l != nil {
		open.SetLocation(l)
	}
	open.Resize(fyne.NewSize(800, 560))
	open.Show()
}

func (p *Panel) startImport(d *importDialog) {
	path := strings.TrimSpace(d.path.Text)
	if path == "" {
		setLabel(d.errText, lang.L("choose the file to import (Browse…)"), widget.DangerImportance)
		return
	}
	if fi, err := os.Stat(path); err != nil {
		setLabel(d.errText, err.Error(), widget.DangerImportance)
		return
	} else if fi.IsDir() {
		setLabel(d.errText, path+lang.L(" is a folder; choose a JSON Lines file"), widget.DangerImportance)
		return
	}
	store := p.store
	var checking atomic.Bool
	var records atomic.Int64
	checking.Store(true)
	started := p.startAction(job{
		title:       lang.L("Import"),
		cancellable: true,
		status: func(done, total int64) string {
			pct := ""
			if total > 0 {
				pct = fmt.Sprintf(" (%d%%)", done*100/total)
			}
			if checking.Load() {
				return fmt.Sprintf(lang.L("Checking %s… %s%s"), filepath.Base(path), numfmt.Plural(records.Load(), "record", "records"), pct)
			}
			return fmt.Sprintf(lang.L("Importing %s… %s imported%s"), filepath.Base(path), numfmt.Plural(records.Load(), "record", "records"), pct)
		},
		run: func(ctx context.Context, progress func(int64, int64)) (string, error) {
			n, err := capture.ImportFile(ctx, store, path, func(ip capture.ImportProgress) {
				checking.Store(ip.Checking)
				records.Store(ip.Records)
				progress(ip.Done, ip.Total)
			})
			if err != nil {
				if ctx.Err() != nil {
					return lang.L("Import cancelled: ") + err.Error(), context.Canceled
				}
				return lang.L("Import failed: ") + err.Error(), err
			}
			return fmt.Sprintf(lang.L("Imported %s from %s."), numfmt.Plural(n, "record", "records"), path), nil
		},
		after: func(error) { p.refreshResults() },
	})
	if started {
		d.dlg.Hide()
	}
}
