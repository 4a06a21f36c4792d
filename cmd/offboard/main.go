// Command offboard removes a departing person's access everywhere and proves it.
package main

import (
	"os"

	"github.com/offboard-dev/offboard/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
