"""Slate's external repositories, for Slate's own WORKSPACE and for projects
that embed it. Every one is offline: stand-ins under third_party/ for the rule
repositories Bazel 4 would download, and Debian's packages under /usr.

In a consumer's WORKSPACE (the repository must be named "slate"):

    local_repository(name = "slate", path = "/path/to/slate")

    load("@slate//:deps.bzl", "slate_dependencies")

    slate_dependencies()

then depend on "@slate//lib/api:engine" and build with
`--cxxopt=-std=c++20` (tests/packaging/bazel_consumer is a tested example).
"""

def _third_party_dir_impl(ctx):
    # The folder of `marker`, wherever this repository (Slate) lives: a
    # local_repository needs an absolute path, which a macro cannot compute.
    src = ctx.path(ctx.attr.marker).dirname
    for child in src.readdir():
        ctx.symlink(child, child.basename)

_third_party_dir = repository_rule(
    implementation = _third_party_dir_impl,
    attrs = {"marker": attr.label(allow_single_file = True, mandatory = True)},
    local = True,
)

def slate_dependencies():
    """Defines @rules_cc, @rules_java, @remote_coverage_tools, @system and
    @com_google_protobuf unless the WORKSPACE defined them already."""
    existing = native.existing_rules()
    for name in ["rules_cc", "rules_java", "remote_coverage_tools"]:
        if name not in existing:
            _third_party_dir(
                name = name,
                marker = Label("//third_party/%s:WORKSPACE" % name),
            )
    if "system" not in existing:
        native.new_local_repository(
            name = "system",
            build_file = str(Label("//third_party/system:system.BUILD")),
            path = "/usr",
        )
    if "com_google_protobuf" not in existing:
        native.new_local_repository(
            name = "com_google_protobuf",
            build_file = str(Label("//third_party/system:protobuf.BUILD")),
            path = "/usr",
        )
