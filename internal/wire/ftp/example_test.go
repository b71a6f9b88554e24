package ftp_test

import (
	"bufio"
	"fmt"
	"strings"

	ftpwire "github.com/protospec/protospec/internal/wire/ftp"
)

func ExampleReadReply() {
	br := bufio.NewReader(strings.NewReader("227 Entering Passive Mode (127,0,0,1,4,1).\r\n"))
	rep, err := ftpwire.ReadReply(br, ftpwire.Limits{})
	if err != nil {
		panic(err)
	}
	ap, _ := ftpwire.ParsePASV(rep.Text())
	fmt.Println(rep.Code, rep.Class(), ap)
	// Output: 227 2 127.0.0.1:1025
}

func ExampleParseCommand() {
	c, _ := ftpwire.ParseCommand([]byte("retr /pub/hello.txt\r\n"))
	fmt.Printf("%s %q %q\n", c.Verb, c.Arg, c.String())
	// Output: RETR "/pub/hello.txt" "RETR /pub/hello.txt\r\n"
}
