package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// completionCmd is `hearsay completion SHELL`: a script that completes
// hearsay's commands and flags (cobra v1.0 has no default one).
func (c *cli) completionCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "completion SHELL",
		Short: "Print a shell completion script (bash, zsh, fish or powershell)",
		Long: "Load it in the running shell, for example: source <(hearsay completion bash)\n" +
			"or install it: hearsay completion bash > /etc/bash_completion.d/hearsay",
		Args:      exactArgs(1),
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletion(c.stdout)
			case "zsh":
				return root.GenZshCompletion(c.stdout)
			case "fish":
				return root.GenFishCompletion(c.stdout, true)
			case "powershell":
				return root.GenPowerShellCompletion(c.stdout)
			}
			return errors.New("completion: want bash, zsh, fish or powershell, got " + args[0])
		},
	}
	return cmd
}
