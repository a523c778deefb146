// Command iotstudio is a desktop MQTT workbench: an embedded broker, a live
// topic view and traffic tools in one binary. All the work happens in app/.
package main

import (
	"os"

	"github.com/iotstudio/iotstudio/app"
	_ "github.com/iotstudio/iotstudio/app/locale" // before Fyne reads the locale
)

func main() {
	stopProfile := startProfiling()
	code := app.Main(os.Args[1:])
	stopProfile()
	os.Exit(code)
}
