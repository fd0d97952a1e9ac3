package io.vrsky.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The project's checkout, for tests that read its files (the docs, the scripts) or run them. */
public final class Repository {

    private Repository() {
    }

    /** The checkout's root: the nearest directory above the working directory with README.md, docs/ and envelope-core/. */
    public static Path root() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            if (Files.isDirectory(dir.resolve("docs")) && Files.isRegularFile(dir.resolve("README.md"))
                    && Files.isDirectory(dir.resolve("envelope-core"))) {
                return dir;
            }
            dir = dir.getParent();
        }
        throw new IllegalStateException("cannot find the repository root (README.md, docs/, envelope-core/) above "
                + Path.of("").toAbsolutePath());
    }

    /** What users read: README.md, then every Markdown file of docs/ by name. */
    public static List<Path> userDocs() {
        Path root = root();
        List<Path> docs = new ArrayList<>();
        docs.add(root.resolve("README.md"));
        try (Stream<Path> files = Files.list(root.resolve("docs"))) {
            files.filter(f -> f.toString().endsWith(".md")).sorted().forEach(docs::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return docs;
    }
}
