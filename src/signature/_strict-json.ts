/**
 * JSON.parse that refuses an object with a repeated key. JSON.parse keeps the last of them silently,
 * while another reader (containers/image's paranoid parser refuses; others keep the first) may see a
 * different claim in the same signed bytes: a signature payload must mean one thing to everyone.
 */
export function parseJsonNoDuplicateKeys(text: string): unknown {
  const value: unknown = JSON.parse(text); // the syntax is checked here, so the scan below can trust it
  const stack: { keys: Set<string>; expectKey: boolean }[] = [];
  const arrays: boolean[] = []; // true: the open container at this depth is an array
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{') {
      stack.push({ keys: new Set(), expectKey: true });
      arrays.push(false);
    } else if (c === '[') arrays.push(true);
    else if (c === '}') {
      stack.pop();
      arrays.pop();
    } else if (c === ']') arrays.pop();
    else if (c === ',' && arrays.at(-1) === false) stack.at(-1)!.expectKey = true;
    else if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack.at(-1);
      if (arrays.at(-1) === false && top?.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) throw new SyntaxError(`duplicate key ${JSON.stringify(key)}`);
        top.keys.add(key);
        top.expectKey = false;
      }
      i = j;
    }
  }
  return value;
}
