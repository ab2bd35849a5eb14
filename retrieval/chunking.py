"""Split articles into overlapping chunks with exact character offsets.

LangChain's recursive splitter does the splitting; `add_start_index` gives each chunk its
offset, and we check it, so that ``article.text[chunk.start:chunk.end] == chunk.text``
holds for every chunk. Citations quote article text through these offsets.
"""

from __future__ import annotations

from langchain_text_splitters import RecursiveCharacterTextSplitter

from .models import Article, Chunk


class Chunker:
    def __init__(self, chunk_size: int = 800, chunk_overlap: int = 120):
        if chunk_overlap >= chunk_size:
            raise ValueError(f"chunk_overlap ({chunk_overlap}) must be smaller than chunk_size ({chunk_size})")
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self._splitter = RecursiveCharacterTextSplitter(
            chunk_size=chunk_size,
            chunk_overlap=chunk_overlap,
            # Paragraphs, then lines, then sentence ends, then words: chunks end where a reader would pause.
            separators=["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""],
            keep_separator="end",
            add_start_index=True,
        )

    def split(self, article: Article) -> list[Chunk]:
        chunks = []
        for index, doc in enumerate(self._splitter.create_documents([article.text])):
            start = doc.metadata["start_index"]
            if start < 0 or article.text[start:start + len(doc.page_content)] != doc.page_content:
                start = article.text.find(doc.page_content)  # the splitter's guess missed; find it exactly
                if start < 0:
                    raise AssertionError(f"chunk {index} of {article.id!r} is not a span of its article")
            end = start + len(doc.page_content)
            chunks.append(Chunk(id=f"{article.id}#{index}", doc_id=article.id, text=doc.page_content, start=start, end=end))
        return chunks
