package io.vrsky.pipeline;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A fenced code block of a Markdown document and the shell commands in it, read the way a user
 * copies them: lines ending in {@code \} joined, {@code # comments} dropped, and in a transcript
 * (an untagged block whose lines start with {@code $ }) the commands with the output shown under each.
 *
 * @param file    the document
 * @param line    the block's first line (1-based, the fence)
 * @param lang    the fence's language tag ({@code bash}, {@code sql}, {@code java}, or empty)
 * @param heading the nearest heading above the block, without its {@code #}s
 * @param text    the block's lines
 */
record ShellExample(Path file, int line, String lang, String heading, List<String> text) {

    private static final Pattern FENCE = Pattern.compile("^```(\\w*)\\s*$");
    private static final Pattern HEADING = Pattern.compile("^#{1,6}\\s+(.*)$");
    private static final Pattern ASSIGNMENT = Pattern.compile("^([A-Z_][A-Z0-9_]*)=(.*)$", Pattern.DOTALL);

    /** One command of a block, with the output a transcript shows under it (empty for other blocks). */
    record Command(ShellExample block, String text, List<String> expectedOutput) {

        /** The shell words (quotes removed). */
        List<String> words() {
            return ShellExample.words(text);
        }

        /** The {@code NAME=value} words in front of the program. */
        Map<String, String> assignments() {
            Map<String, String> env = new LinkedHashMap<>();
            for (String w : words()) {
                Matcher m = ASSIGNMENT.matcher(w);
                if (!m.matches()) {
                    break;
                }
                env.put(m.group(1), m.group(2));
            }
            return env;
        }

        /** The words from the program on. */
        List<String> program() {
            List<String> w = words();
            int i = 0;
            while (i < w.size() && ASSIGNMENT.matcher(w.get(i)).matches()) {
                i++;
            }
            return w.subList(i, w.size());
        }

        String where() {
            return block.file().getFileName() + ":" + block.line() + " (" + block.heading() + "): " + text;
        }
    }

    /** Every fenced block of {@code file}. */
    static List<ShellExample> read(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        List<ShellExample> blocks = new ArrayList<>();
        String heading = "";
        for (int i = 0; i < lines.size(); i++) {
            Matcher fence = FENCE.matcher(lines.get(i));
            Matcher h = HEADING.matcher(lines.get(i));
            if (fence.matches()) {
                int start = i;
                List<String> text = new ArrayList<>();
                for (i++; i < lines.size() && !lines.get(i).startsWith("```"); i++) {
                    text.add(lines.get(i));
                }
                blocks.add(new ShellExample(file, start + 1, fence.group(1), heading, List.copyOf(text)));
            } else if (h.matches()) {
                heading = h.group(1).trim();
            }
        }
        return blocks;
    }

    /** A block a user runs in a shell: tagged bash/sh/shell/console, or a transcript. */
    boolean isShell() {
        return List.of("bash", "sh", "shell", "console").contains(lang) || isTranscript();
    }

    /** An untagged block whose first line is a {@code $ } prompt: commands with their output. */
    boolean isTranscript() {
        return lang.isEmpty() && !text.isEmpty() && text.get(0).startsWith("$ ");
    }

    /** The commands of a shell block, in order. */
    List<Command> commands() {
        List<Command> commands = new ArrayList<>();
        if (isTranscript()) {
            for (String l : text) {
                if (l.startsWith("$ ")) {
                    commands.add(new Command(this, stripComment(l.substring(2)).trim(), new ArrayList<>()));
                } else if (!commands.isEmpty()) {
                    commands.get(commands.size() - 1).expectedOutput().add(l);
                }
            }
            return commands.stream().map(c -> new Command(this, c.text(), List.copyOf(c.expectedOutput()))).toList();
        }
        StringBuilder current = new StringBuilder();
        for (String l : text) {
            String line = stripComment(l);
            boolean continues = line.stripTrailing().endsWith("\\");
            current.append(continues ? line.stripTrailing().substring(0, line.stripTrailing().length() - 1) + " " : line);
            if (!continues) {
                String command = current.toString().trim();
                if (!command.isEmpty()) {
                    commands.add(new Command(this, command, List.of()));
                }
                current.setLength(0);
            }
        }
        return commands;
    }

    /** Drops a {@code #} comment that starts after whitespace outside quotes. */
    static String stripComment(String line) {
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '#' && (i == 0 || Character.isWhitespace(line.charAt(i - 1)))) {
                return line.substring(0, i);
            }
        }
        return line;
    }

    /** Splits a command into words as a shell does for plain words and quotes (no expansions). */
    static List<String> words(String command) {
        List<String> words = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (int i = 0; i < command.length(); i++) {
            char c = command.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else {
                    w.append(c);
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
                inWord = true;
            } else if (Character.isWhitespace(c)) {
                if (inWord) {
                    words.add(w.toString());
                    w.setLength(0);
                    inWord = false;
                }
            } else {
                w.append(c);
                inWord = true;
            }
        }
        if (inWord) {
            words.add(w.toString());
        }
        return words;
    }
}
