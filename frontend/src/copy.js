// Copy a text to the clipboard; falls back to selecting it in its input (older browsers).
export async function copyText(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (input) {
      input.select();
      return document.execCommand?.("copy") ?? false;
    }
    return false;
  }
}
