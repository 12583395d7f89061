"""Packaging for codebench; all metadata lives in settings.ini (nbdev's convention)."""
from configparser import ConfigParser

import setuptools

cfg = ConfigParser(delimiters=["="])
cfg.read("settings.ini", encoding="utf-8")
cfg = cfg["DEFAULT"]


def reqs(key):
    return cfg.get(key, "").split()


licenses = {"apache2": ("Apache Software License 2.0", "OSI Approved :: Apache Software License")}
lic = licenses[cfg["license"]]
statuses = ["Planning", "Pre-Alpha", "Alpha", "Beta", "Production/Stable", "Mature", "Inactive"]

setuptools.setup(
    name=cfg["lib_name"],
    version=cfg["version"],
    description=cfg["description"],
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    author=cfg["author"],
    author_email=cfg["author_email"],
    url=cfg["git_url"],
    project_urls={"Source": cfg["git_url"]},
    keywords=cfg["keywords"].split(),
    license=lic[0],
    classifiers=[
        f"Development Status :: {cfg['status']} - {statuses[int(cfg['status'])]}",
        f"Intended Audience :: {cfg['audience'].title()}",
        f"Natural Language :: {cfg['language'].title()}",
        "Programming Language :: Python :: 3",
    ],
    packages=setuptools.find_packages(include=["codebench", "codebench.*"]),
    include_package_data=False,  # package_data below lists the data; True would warn about every benchmark folder Python could import
    package_data={"codebench": ["benchmarks/**/*", "benchmarks/**/.*", "stages/*.ipynb"]},
    install_requires=reqs("requirements"),
    extras_require={k: reqs(f"{k}_requirements") for k in ("dev", "lab", "ray", "hf", "train", "vllm")},
    python_requires=f">={cfg['min_python']}",
    zip_safe=False,
    entry_points={
        "console_scripts": cfg["console_scripts"].split(),
        "nbdev": [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"],
    },
)
