"""pip install --no-build-isolation . — builds and installs adakit's Python package.

The extension adakit._adakit (python/src/) is built by the project's own CMake, for the interpreter
that runs pip, with the C++ library it wraps linked in statically; the pure-Python modules come from
python/adakit/. Needs cmake, a C++20 compiler, the C++ library's build dependencies
(scripts/deps.txt) and pybind11; nothing is downloaded (Debian's setuptools, no build isolation).

Environment: CMAKE_BUILD_PARALLEL_LEVEL (build jobs), ADAKIT_CMAKE_ARGS (extra CMake flags, e.g.
"-DADAKIT_NATIVE=OFF" for a wheel that runs on other x86-64 machines).
"""

import os
import re
import shlex
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))


def project_version():
    with open(os.path.join(ROOT, "CMakeLists.txt"), encoding="utf-8") as f:
        return re.search(r"project\(adakit VERSION ([0-9.]+)", f.read()).group(1)


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = os.path.abspath(os.path.join(self.build_temp, "cmake"))
        configure = ["cmake", "-S", ROOT, "-B", build_dir, "-DCMAKE_BUILD_TYPE=Release",
                     f"-DPython_EXECUTABLE={sys.executable}", "-DADAKIT_PYTHON=ON", "-DADAKIT_BUILD_TESTS=OFF",
                     "-DADAKIT_BUILD_TOOLS=OFF", "-DADAKIT_BUILD_BENCH=OFF"]
        if shutil.which("ninja"):
            configure += ["-G", "Ninja"]
        configure += shlex.split(os.environ.get("ADAKIT_CMAKE_ARGS", ""))
        subprocess.run(configure, check=True)
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))
        subprocess.run(["cmake", "--build", build_dir, "--target", "_adakit", "-j", jobs], check=True)
        built = [f for f in os.listdir(os.path.join(build_dir, "python", "adakit")) if f.startswith("_adakit")]
        if len(built) != 1:
            raise RuntimeError(f"expected one built extension in {build_dir}/python/adakit, found {built}")
        target = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(os.path.join(build_dir, "python", "adakit", built[0]), target)


setup(
    name="adakit",
    version=project_version(),
    description="AdaGrad and its family as fast C++ kernels, for NumPy, PyTorch and scikit-learn",
    packages=["adakit"],
    package_dir={"adakit": "python/adakit"},
    ext_modules=[CMakeExtension("adakit._adakit")],
    cmdclass={"build_ext": CMakeBuild},
    python_requires=">=3.8",
    install_requires=["numpy"],
    extras_require={"sklearn": ["scipy", "scikit-learn"], "torch": ["torch"]},
    options={"build": {"build_base": "build-pip"}},
    zip_safe=False,
)
