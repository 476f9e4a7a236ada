// A failed start in the words of Docker's runtime, runc: the docker CLI picks `run`'s exit code
// from them (127 for "executable file not found" or "no such file or directory", 126 for
// "permission denied"), so crun's wording, which podman passes on, would make every such run 125.

/** What crun and podman say when the command is missing, or is there but cannot be run. */
const NOT_FOUND = /OCI runtime attempted to invoke a command that was not found$/;
const DENIED = /OCI permission denied$/;

/** The message with runc's words for the failure before the engine's own, or the message as it is. */
export function dockerStartError(message: string, command: string | undefined): string {
  if (command === undefined) return message;
  if (NOT_FOUND.test(message)) {
    const words = command.includes('/') ? `stat ${command}: no such file or directory` : 'executable file not found in $PATH';
    return `exec: "${command}": ${words}: ${message}`;
  }
  if (DENIED.test(message)) return `exec: "${command}": permission denied: ${message}`;
  return message;
}
