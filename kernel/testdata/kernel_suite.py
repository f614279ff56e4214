"""The standard Jupyter kernel test suite (jupyter_kernel_test) against graft.

Run by kernel/jupyter_test.go with the kernelspec named in $GRAFT_KERNEL_NAME
on $JUPYTER_PATH. Every sample attribute of KernelTests is filled, so no test
of the suite is skipped; the script fails when one is.
"""

import os
import sys
import unittest

import jupyter_kernel_test


class GraftKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = os.environ["GRAFT_KERNEL_NAME"]
    language_name = "go"
    file_extension = ".go"

    code_hello_world = 'fmt.Println("hello, world")'
    code_stderr = 'fmt.Fprintln(os.Stderr, "to stderr")'

    completion_samples = [
        {"text": "strings.ToUp", "matches": {"ToUpper", "ToUpperSpecial"}},
        {"text": "fmt.Sprin", "matches": {"Sprint", "Sprintf", "Sprintln"}},
    ]
    complete_code_samples = ["x := 1", "func f() int { return 1 }", "fmt.Println(1)"]
    incomplete_code_samples = ["func f() {", "for i := 0; i < 3; i++ {", "x := []int{1,"]
    invalid_code_samples = ["x := )", "func f() { }}"]

    code_page_something = "fmt.Println?"
    code_generate_error = 'panic("boom")'
    code_execute_result = [
        {"code": "6*7", "result": "42"},
        {"code": '"a" + "b"', "result": '"ab"'},
    ]
    code_display_data = [
        {"code": 'display.Show(display.HTML("<b>bold</b>"))', "mime": "text/html"},
        {"code": 'display.Show(display.Markdown("*md*"))', "mime": "text/markdown"},
    ]
    code_history_pattern = "6?7"
    supported_history_operations = ("tail", "range", "search")
    code_inspect_sample = "strings.ToUpper"
    code_clear_output = "display.Clear(false)"


class Result(unittest.TextTestResult):
    """Counts skipped tests as failures: a skip means a sample is missing or
    the suite changed, and either way nothing was checked."""

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.failures.append((test, "skipped: %s" % (reason or "no reason given")))


if __name__ == "__main__":
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2, resultclass=Result)
    result = runner.run(unittest.defaultTestLoader.loadTestsFromTestCase(GraftKernelTests))
    sys.exit(0 if result.wasSuccessful() else 1)
